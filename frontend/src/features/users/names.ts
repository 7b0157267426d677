import { useQuery } from "@tanstack/react-query";
import { useCallback } from "react";
import { unwrap } from "../../lib/api";
import { useApi } from "../../lib/services";

/** A person's display name by id, else the fallback (their email), else null. */
export type NameOf = (id: string | null | undefined, fallback?: string | null) => string | null;

/** Every user's display name by id (anyone signed in may read them): how a person is named in
 * an order's history and notes and in the audit log. */
export function useUserNames(): NameOf {
  const api = useApi();
  const names = useQuery({
    queryKey: ["users", "names"],
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/users/names", { signal })).then(
        (body) => new Map(body.users.map((user) => [user.id, user.displayName])),
      ),
    staleTime: 5 * 60_000,
  });
  const byId = names.data;
  /** The person's display name; else what the record knows of them (their email), else null. */
  return useCallback(
    (id: string | null | undefined, fallback?: string | null): string | null =>
      (id ? byId?.get(id) : undefined) ?? fallback ?? null,
    [byId],
  );
}
