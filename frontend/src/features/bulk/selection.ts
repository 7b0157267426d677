import { useCallback, useEffect, useState } from "react";

export interface Selection {
  selected: ReadonlySet<string>;
  /** "All N matching this view" instead of the rows picked on the page. */
  allMatching: boolean;
  toggle: (id: string) => void;
  setPage: (ids: string[], on: boolean) => void;
  selectAllMatching: () => void;
  clear: () => void;
}

/** The orders picked for a bulk move; forgotten whenever the view (its key) changes. */
export function useSelection(viewKey: string): Selection {
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [allMatching, setAllMatching] = useState(false);
  const clear = useCallback(() => {
    setSelected(new Set());
    setAllMatching(false);
  }, []);
  useEffect(clear, [viewKey, clear]);
  const toggle = useCallback((id: string) => {
    setAllMatching(false);
    setSelected((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  }, []);
  const setPage = useCallback((ids: string[], on: boolean) => {
    setAllMatching(false);
    setSelected((current) => {
      const next = new Set(current);
      for (const id of ids) {
        if (on) next.add(id);
        else next.delete(id);
      }
      return next;
    });
  }, []);
  return { selected, allMatching, toggle, setPage, selectAllMatching: () => setAllMatching(true), clear };
}
