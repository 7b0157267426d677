import { formatAbsolute, formatRelative } from "../../lib/format";
import { useNow } from "../../lib/useNow";

/** Relative time for scanning, the exact instant on hover and for assistive technology. */
export function TimeAgo({ iso }: { iso: string }) {
  const now = useNow();
  const relative = formatRelative(iso, now);
  const absolute = formatAbsolute(iso);
  return (
    <time dateTime={iso} title={absolute} aria-label={`${relative}, ${absolute}`}>
      {relative}
    </time>
  );
}
