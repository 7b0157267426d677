import { useEffect, useMemo, useRef, useState } from "react";
import { unwrap } from "../../lib/api";
import { useApi } from "../../lib/services";
import { viewToQuery, type OrderView } from "./orderView";

/** At most one question every 5 seconds, however fast new orders arrive (a tab's requests stay
 * bounded during an import). */
export const ASK_INTERVAL_MS = 5_000;
/** The most ids one question may name (the server's limit). */
const MAX_IDS = 100;

interface Answers {
  filters: string;
  asked: ReadonlySet<string>;
  matched: ReadonlySet<string>;
}

/**
 * Which of these orders the view's list holds, as the server answers it (`GET
 * /api/orders/matching` with the view's filters): the list's own predicate, so tags, notes,
 * carriers and phone digits count exactly as the list counts them. Each id is asked about once
 * per view; an id not answered yet is not in the set.
 */
export function useViewMatches(view: OrderView, ids: readonly string[]): ReadonlySet<string> {
  const api = useApi();
  const query = useMemo(() => {
    const { channel, status, search, tag, from, to } = viewToQuery(view);
    return { channel, status, search, tag, from, to };
  }, [view]);
  const filters = JSON.stringify(query);
  const [answers, setAnswers] = useState<Answers>({ filters, asked: new Set(), matched: new Set() });
  const current = useMemo(
    () => (answers.filters === filters ? answers : { filters, asked: new Set<string>(), matched: new Set<string>() }),
    [answers, filters],
  );
  const lastAsked = useRef(-Infinity);
  // One question at a time, never aborted for a newer one (its answer asks about the rest).
  const asking = useRef(false);
  const unmounted = useRef(new AbortController());
  const idList = ids.join("\n");

  useEffect(() => {
    const controller = new AbortController();
    unmounted.current = controller;
    return () => controller.abort();
  }, []);

  useEffect(() => {
    if (asking.current) return;
    const pending = ids.filter((id) => !current.asked.has(id)).slice(0, MAX_IDS);
    if (pending.length === 0) return;
    const wait = Math.max(0, lastAsked.current + ASK_INTERVAL_MS - Date.now());
    const timer = setTimeout(() => {
      lastAsked.current = Date.now();
      asking.current = true;
      const signal = unmounted.current.signal;
      unwrap(api.GET("/api/orders/matching", { params: { query: { ...query, ids: pending } }, signal }))
        .then(({ ids: matched }) => {
          asking.current = false;
          setAnswers((before) => {
            const base = before.filters === filters ? before : { filters, asked: new Set<string>(), matched: new Set<string>() };
            return {
              filters,
              asked: new Set([...base.asked, ...pending]),
              matched: new Set([...base.matched, ...matched]),
            };
          });
        })
        // Unanswered: the orders are not announced (the next list refresh shows them anyway).
        .catch(() => {
          asking.current = false;
        });
    }, wait);
    return () => clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- ids by value, the answers by view
  }, [idList, filters, current.asked, api]);

  return current.matched;
}
