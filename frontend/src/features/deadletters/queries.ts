import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { unwrap } from "../../lib/api";
import type { DeadLetterState } from "../../lib/apiTypes";
import { useApi } from "../../lib/services";
import { orderKeys } from "../orders/queries";

export const deadLetterKeys = {
  all: ["dead-letters"] as const,
  list: (state: DeadLetterState, page: number) => [...deadLetterKeys.all, state, page] as const,
};

export function useDeadLetters(state: DeadLetterState, page: number) {
  const api = useApi();
  return useQuery({
    queryKey: deadLetterKeys.list(state, page),
    queryFn: ({ signal }) => unwrap(api.GET("/api/dead-letters", { params: { query: { state, page } }, signal })),
  });
}

export function useReplayDeadLetter() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, payload }: { id: string; payload?: string }) =>
      unwrap(
        api.POST("/api/dead-letters/{letter_id}/replay", {
          params: { path: { letter_id: id } },
          body: payload === undefined ? {} : { payload },
        }),
      ),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: orderKeys.all });
      return queryClient.invalidateQueries({ queryKey: deadLetterKeys.all });
    },
  });
}

export function useDiscardDeadLetter() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, reason }: { id: string; reason: string }) =>
      unwrap(
        api.POST("/api/dead-letters/{letter_id}/discard", {
          params: { path: { letter_id: id } },
          body: { reason },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: deadLetterKeys.all }),
  });
}
