import { useCallback, useRef } from "react";

/** Sends an action once however often it is asked for while it runs (a double click), under an
 * idempotency key the server honours: the same action asked again after a failure (a retry)
 * keeps its key, so the server applies it at most once; a new action gets a new key. */
export function useOncePerAction<Input, Output>(
  send: (input: Input, idempotencyKey: string) => Promise<Output>,
): (input: Input) => Promise<Output> {
  const current = useRef<{ input: string; key: string; running?: Promise<Output> } | null>(null);
  return useCallback(
    (input: Input) => {
      const text = JSON.stringify(input);
      const same = current.current?.input === text ? current.current : null;
      if (same?.running) return same.running;
      const key = same?.key ?? newKey();
      const running = send(input, key).then(
        (output) => {
          current.current = null;
          return output;
        },
        (error: unknown) => {
          if (current.current?.key === key) current.current.running = undefined;
          throw error;
        },
      );
      current.current = { input: text, key, running };
      return running;
    },
    [send],
  );
}

function newKey(): string {
  return globalThis.crypto?.randomUUID?.() ?? `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}
