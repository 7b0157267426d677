import { useEffect } from "react";

/** Names the browser tab after what is on screen; the previous name returns on unmount. */
export function useDocumentTitle(title: string): void {
  useEffect(() => {
    const previous = document.title;
    document.title = `${title} · Order Hub`;
    return () => {
      document.title = previous;
    };
  }, [title]);
}
