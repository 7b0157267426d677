import { useEffect, useRef, useState } from "react";

/**
 * A text field's draft, committed once typing pauses for `delayMs` (trimmed, and only when it
 * differs from what was last committed); a new `value` from outside (back, a link) replaces it.
 * The parent's fresh callback on each render must not restart the pause, so it is kept in a ref.
 */
export function useDebouncedDraft(value: string, onCommit: (value: string) => void, delayMs: number) {
  const [draft, setDraft] = useState(value);
  const committed = useRef(value);
  const commit = useRef(onCommit);
  commit.current = onCommit;

  useEffect(() => {
    if (value !== committed.current) {
      committed.current = value;
      setDraft(value);
    }
  }, [value]);

  useEffect(() => {
    const wanted = draft.trim();
    if (wanted === committed.current) return;
    const timer = setTimeout(() => {
      committed.current = wanted;
      commit.current(wanted);
    }, delayMs);
    return () => clearTimeout(timer);
  }, [draft, delayMs]);

  return [draft, setDraft] as const;
}
