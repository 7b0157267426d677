import { useQueryClient, type QueryClient, type QueryKey } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { useServices } from "../../lib/services";
import { orderKeys, wantFreshLists } from "../orders/queries";
import { followOrderEvents, type OrderEventNotice, type StreamState } from "./orderEvents";

interface ReceivedNotice extends OrderEventNotice {
  receivedAt: number;
}

export interface UnseenOrders {
  created: number;
  changed: number;
  /** The ids of the created ones, to highlight once shown. */
  createdIds: string[];
}

/** Whether a notice concerns what the current view shows (the default: every notice does). */
export type NoticeFilter = (notice: OrderEventNotice) => boolean;

interface LiveUpdates {
  state: StreamState;
  /** Orders created or changed after `since` (epoch ms) that `matches` lets through, each counted once. */
  unseenSince: (since: number, matches?: NoticeFilter) => UnseenOrders;
  /** Reloads the order lists so the unseen orders show. */
  showUnseen: () => void;
}

const LiveUpdatesContext = createContext<LiveUpdates>({
  state: "connecting",
  unseenSince: () => ({ created: 0, changed: 0, createdIds: [] }),
  showUnseen: () => undefined,
});

export function useLiveUpdates(): LiveUpdates {
  return useContext(LiveUpdatesContext);
}

const KEPT_NOTICES = 1_000;

/** The shortest time between two refetches of one query on live changes, however many come. */
export const LIVE_REFRESH_MS = 5_000;
// How soon a query that was still fetching is looked at again.
const BUSY_RETRY_MS = 250;

/**
 * Invalidates queries on live changes at most once per `LIVE_REFRESH_MS`: the keys asked for
 * meanwhile are gathered and invalidated together. An in-flight fetch is never cancelled and
 * reissued, so a stream of changes cannot turn into a loop of aborted requests: a query still
 * fetching (its answer may be from before the change) is refetched once it has answered.
 */
function useThrottledInvalidation(queryClient: QueryClient) {
  const pending = useRef(new Map<string, QueryKey>());
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const lastRun = useRef(-Infinity);

  useEffect(
    () => () => {
      if (timer.current !== null) clearTimeout(timer.current);
    },
    [],
  );

  return useCallback(
    (keys: readonly QueryKey[]) => {
      for (const key of keys) pending.current.set(JSON.stringify(key), key);
      if (timer.current !== null || pending.current.size === 0) return;
      const run = () => {
        timer.current = null;
        for (const [id, queryKey] of pending.current) {
          if (queryClient.isFetching({ queryKey }) > 0) continue;
          pending.current.delete(id);
          lastRun.current = Date.now();
          void queryClient.invalidateQueries({ queryKey }, { cancelRefetch: false });
        }
        if (pending.current.size > 0) timer.current = setTimeout(run, BUSY_RETRY_MS);
      };
      timer.current = setTimeout(run, Math.max(0, lastRun.current + LIVE_REFRESH_MS - Date.now()));
    },
    [queryClient],
  );
}

/**
 * Follows the order event stream while signed in. Counts and an open order refresh quietly, each
 * at most once per `LIVE_REFRESH_MS`; the table only changes when the user asks, so rows never
 * move under the cursor. A reset (changes missed that the gateway cannot replay) refetches every
 * order query once.
 */
export function LiveUpdatesProvider({ baseUrl, children }: { baseUrl: string; children: ReactNode }) {
  const { session } = useServices();
  const queryClient = useQueryClient();
  const [state, setState] = useState<StreamState>("connecting");
  const [notices, setNotices] = useState<readonly ReceivedNotice[]>([]);

  const invalidate = useThrottledInvalidation(queryClient);

  const onNotices = useCallback(
    (batch: OrderEventNotice[]) => {
      const receivedAt = Date.now();
      setNotices((current) => [...current, ...batch.map((notice) => ({ ...notice, receivedAt }))].slice(-KEPT_NOTICES));
      // Only the details someone looks at: the others are fetched fresh when opened.
      const cache = queryClient.getQueryCache();
      const details = new Set(batch.map((notice) => notice.orderId));
      const openDetails = [...details]
        .map((id) => orderKeys.detail(id))
        .filter((queryKey) => cache.find({ queryKey }) !== undefined);
      invalidate([orderKeys.stats(), ...openDetails]);
    },
    [queryClient, invalidate],
  );

  const onReset = useCallback(() => {
    void queryClient.invalidateQueries({ queryKey: orderKeys.all }, { cancelRefetch: false });
  }, [queryClient]);

  useEffect(() => {
    const controller = new AbortController();
    void followOrderEvents({ session, baseUrl, onNotices, onReset, onState: setState, signal: controller.signal });
    return () => controller.abort();
  }, [session, baseUrl, onNotices, onReset]);

  const unseenSince = useCallback(
    (since: number, matches: NoticeFilter = () => true): UnseenOrders => {
      const created = new Set<string>();
      const changed = new Set<string>();
      for (const notice of notices) {
        if (notice.receivedAt <= since || !matches(notice)) continue;
        if (notice.kind === "created") created.add(notice.orderId);
        else changed.add(notice.orderId);
      }
      for (const id of created) changed.delete(id);
      return { created: created.size, changed: changed.size, createdIds: [...created] };
    },
    [notices],
  );

  const showUnseen = useCallback(() => {
    wantFreshLists();
    void queryClient.invalidateQueries({ queryKey: orderKeys.lists() });
  }, [queryClient]);

  const value = useMemo(() => ({ state, unseenSince, showUnseen }), [state, unseenSince, showUnseen]);
  return <LiveUpdatesContext.Provider value={value}>{children}</LiveUpdatesContext.Provider>;
}
