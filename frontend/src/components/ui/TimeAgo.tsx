import { formatAbsolute, formatRelative } from "../../lib/format";

/** Relative time for scanning, the exact instant on hover and for assistive technology. */
export function TimeAgo({ iso }: { iso: string }) {
  const absolute = formatAbsolute(iso);
  return (
    <time dateTime={iso} title={absolute} aria-label={`${formatRelative(iso)}, ${absolute}`}>
      {formatRelative(iso)}
    </time>
  );
}
