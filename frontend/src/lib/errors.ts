/** A failed API call, carrying the contract's error shape when the server sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId?: string,
    /** The error's `details`, when the server gave any (shape depends on the code). */
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "ApiError";
  }

  static async fromResponse(response: Response, body?: unknown): Promise<ApiError> {
    const payload = body ?? (await response.clone().json().catch(() => undefined));
    const error = (
      payload as { error?: { code?: string; message?: string; requestId?: string; details?: unknown } }
    )?.error;
    return new ApiError(
      response.status,
      error?.code ?? `http_${response.status}`,
      error?.message ?? (response.statusText || `Request failed (${response.status})`),
      error?.requestId ?? response.headers.get("X-Request-ID") ?? undefined,
      error?.details,
    );
  }
}

export function isApiError(error: unknown, status?: number): error is ApiError {
  return error instanceof ApiError && (status === undefined || error.status === status);
}

export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return "Something went wrong.";
}
