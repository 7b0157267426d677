import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { paths } from "../../api/schema";
import { unwrap } from "../../lib/api";
import { useApi } from "../../lib/services";

type JsonOf<T> = T extends { content: { "application/json": infer Body } } ? Body : never;
export type SavedView = JsonOf<paths["/api/views"]["get"]["responses"][200]>["views"][number];
export type SavedViewWrite = NonNullable<paths["/api/views"]["post"]["requestBody"]>["content"]["application/json"];

const viewKeys = { all: ["views"] as const };

export function useSavedViews() {
  const api = useApi();
  return useQuery({
    queryKey: viewKeys.all,
    queryFn: ({ signal }) => unwrap(api.GET("/api/views", { signal })).then((body) => body.views),
  });
}

export function useSaveView() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: SavedViewWrite) => unwrap(api.POST("/api/views", { body })).then((answer) => answer.view),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: viewKeys.all }),
  });
}

export function useDeleteView() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE("/api/views/{view_id}", { params: { path: { view_id: id } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: viewKeys.all }),
  });
}

export type SavedViewChange = NonNullable<
  paths["/api/views/{view_id}"]["patch"]["requestBody"]
>["content"]["application/json"];

export function useChangeView() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, change }: { id: string; change: SavedViewChange }) =>
      unwrap(api.PATCH("/api/views/{view_id}", { params: { path: { view_id: id } }, body: change })).then(
        (answer) => answer.view,
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: viewKeys.all }),
  });
}
