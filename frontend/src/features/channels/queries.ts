import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { Channel } from "../../lib/apiTypes";
import { unwrap } from "../../lib/api";
import { useApi } from "../../lib/services";

export const channelKeys = { all: ["channels"] as const };

export function useChannels() {
  const api = useApi();
  return useQuery({
    queryKey: channelKeys.all,
    queryFn: ({ signal }) => unwrap(api.GET("/api/channels", { signal })),
    refetchInterval: 5_000,
  });
}

/** An admin's connection test: the channel's connector signs in and reads once. */
export function useConnectionTest() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (channel: Channel) =>
      unwrap(api.POST("/api/channels/{channel}/connection-test", { params: { path: { channel } } })),
    onSettled: () => queryClient.invalidateQueries({ queryKey: channelKeys.all }),
  });
}
