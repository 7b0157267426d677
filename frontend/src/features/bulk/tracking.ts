/** Tracking numbers for a bulk move to Shipped, typed or pasted as two columns (order id or
 * external id, tracking number) or read from a CSV file: one order per line. */

export interface TrackingParse {
  /** Tracking number by order id or external id, as the server takes them. */
  numbers: Record<string, string>;
  /** Lines that could not be read, in words. */
  problems: string[];
}

const HEADER = /order|external|id/i;

function cells(line: string): string[] {
  // A CSV line (quoted cells allowed), else cells split by a tab, ';' or runs of spaces.
  if (line.includes(",") || line.includes('"')) {
    const found: string[] = [];
    let cell = "";
    let quoted = false;
    for (let index = 0; index < line.length; index += 1) {
      const char = line[index];
      if (quoted) {
        if (char === '"' && line[index + 1] === '"') {
          cell += '"';
          index += 1;
        } else if (char === '"') quoted = false;
        else cell += char;
      } else if (char === '"') quoted = true;
      else if (char === ",") {
        found.push(cell);
        cell = "";
      } else cell += char;
    }
    found.push(cell);
    return found.map((value) => value.trim());
  }
  return line.split(/\t|;|\s{2,}|\s/).map((value) => value.trim());
}

export function parseTracking(text: string): TrackingParse {
  const numbers: Record<string, string> = {};
  const problems: string[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (!line) return;
    const [key = "", tracking = "", ...rest] = cells(line).filter((cell) => cell !== "");
    if (index === 0 && HEADER.test(key) && /track/i.test(tracking)) return; // a header row
    if (!key || !tracking || rest.length > 0) {
      problems.push(`line ${index + 1}: give an order (or external) id and one tracking number`);
      return;
    }
    if (numbers[key] !== undefined && numbers[key] !== tracking) {
      problems.push(`line ${index + 1}: ${key} has two tracking numbers`);
      return;
    }
    numbers[key] = tracking;
  });
  return { numbers, problems };
}

/** The orders of the selection that have no tracking number (by id or external id). */
export function withoutTracking<T extends { id: string; externalId: string }>(
  orders: readonly T[],
  numbers: Record<string, string>,
): T[] {
  return orders.filter((order) => numbers[order.id] === undefined && numbers[order.externalId] === undefined);
}
