import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { unwrap } from "../../lib/api";
import type { Role } from "../../lib/apiTypes";
import { useApi } from "../../lib/services";

export const userKeys = { all: ["users"] as const };

export function useUsers() {
  const api = useApi();
  return useQuery({
    queryKey: userKeys.all,
    queryFn: ({ signal }) => unwrap(api.GET("/api/users", { signal })).then((body) => body.users),
  });
}

export interface NewUser {
  email: string;
  password: string;
  role: Role;
  displayName?: string;
}

export function useAddUser() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (user: NewUser) => unwrap(api.POST("/api/users", { body: user })).then((body) => body.user),
    // The names shown everywhere a person is named are among users' queries too.
    onSuccess: () => queryClient.invalidateQueries({ queryKey: userKeys.all }),
  });
}

export function useUpdateUser() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, ...change }: { id: string; role?: Role; active?: boolean; displayName?: string }) =>
      unwrap(api.PATCH("/api/users/{user_id}", { params: { path: { user_id: id } }, body: change })).then(
        (body) => body.user,
      ),
    // The names shown everywhere a person is named are among users' queries too.
    onSuccess: () => queryClient.invalidateQueries({ queryKey: userKeys.all }),
  });
}
