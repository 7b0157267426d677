import createClient from "openapi-fetch";
import type { paths } from "../api/schema";
import { ApiError } from "./errors";
import type { Session } from "./session";

export type ApiClient = ReturnType<typeof createApi>;

export function createApi(session: Session, baseUrl: string) {
  return createClient<paths>({ baseUrl, fetch: session.fetch });
}

/** The body of a successful openapi-fetch result, or the contract's error thrown as ApiError. */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (error !== undefined || !response.ok) throw await ApiError.fromResponse(response, error);
  return data as T;
}
