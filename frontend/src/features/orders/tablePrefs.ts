import { useCallback, useEffect, useState } from "react";
import { useSessionState } from "../../lib/services";
import { DEFAULT_WAITING_HOURS } from "./waiting";

/** How one user likes the orders list: kept in this browser, per user (never a token). */
export interface TablePrefs {
  density: "comfortable" | "compact";
  hiddenColumns: string[];
  waitingHours: number;
}

export const DEFAULT_PREFS: TablePrefs = { density: "comfortable", hiddenColumns: [], waitingHours: DEFAULT_WAITING_HOURS };

const storageKey = (userId: string) => `orderhub.orders-table.${userId}`;

export function readPrefs(userId: string | undefined): TablePrefs {
  if (!userId) return DEFAULT_PREFS;
  try {
    const raw = JSON.parse(localStorage.getItem(storageKey(userId)) ?? "{}") as Partial<TablePrefs>;
    return {
      density: raw.density === "compact" ? "compact" : "comfortable",
      hiddenColumns: Array.isArray(raw.hiddenColumns) ? raw.hiddenColumns.filter((id) => typeof id === "string") : [],
      waitingHours:
        typeof raw.waitingHours === "number" && Number.isFinite(raw.waitingHours) && raw.waitingHours >= 0
          ? raw.waitingHours
          : DEFAULT_WAITING_HOURS,
    };
  } catch {
    return DEFAULT_PREFS;
  }
}

export function useTablePrefs(): [TablePrefs, (patch: Partial<TablePrefs>) => void] {
  const { user } = useSessionState();
  const userId = user?.id;
  const [prefs, setPrefs] = useState(() => readPrefs(userId));
  useEffect(() => setPrefs(readPrefs(userId)), [userId]);
  const update = useCallback(
    (patch: Partial<TablePrefs>) =>
      setPrefs((current) => {
        const next = { ...current, ...patch };
        if (userId) {
          try {
            localStorage.setItem(storageKey(userId), JSON.stringify(next));
          } catch {
            // A full or blocked storage only costs the preference, not the page.
          }
        }
        return next;
      }),
    [userId],
  );
  return [prefs, update];
}
