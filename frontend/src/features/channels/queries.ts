import { useQuery } from "@tanstack/react-query";
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
