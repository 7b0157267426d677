import { useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { useServices } from "../../lib/services";
import { channelKeys } from "../channels/queries";
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

/**
 * Follows the order event stream while signed in. Counts, channels and an open order refresh
 * quietly; the table only changes when the user asks, so rows never move under the cursor.
 */
export function LiveUpdatesProvider({ baseUrl, children }: { baseUrl: string; children: ReactNode }) {
  const { session } = useServices();
  const queryClient = useQueryClient();
  const [state, setState] = useState<StreamState>("connecting");
  const [notices, setNotices] = useState<readonly ReceivedNotice[]>([]);

  const onNotice = useCallback(
    (notice: OrderEventNotice) => {
      setNotices((current) => [...current.slice(-KEPT_NOTICES + 1), { ...notice, receivedAt: Date.now() }]);
      void queryClient.invalidateQueries({ queryKey: orderKeys.detail(notice.orderId) });
      void queryClient.invalidateQueries({ queryKey: orderKeys.stats() });
      void queryClient.invalidateQueries({ queryKey: channelKeys.all });
    },
    [queryClient],
  );

  useEffect(() => {
    const controller = new AbortController();
    void followOrderEvents({ session, baseUrl, onNotice, onState: setState, signal: controller.signal });
    return () => controller.abort();
  }, [session, baseUrl, onNotice]);

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
