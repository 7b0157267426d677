/** Named date ranges for the "Placed" filter, as calendar days in the viewer's time zone. */
export type DatePreset = "today" | "yesterday" | "last7" | "thisMonth";

export const DATE_PRESETS: { id: DatePreset; label: string }[] = [
  { id: "today", label: "Today" },
  { id: "yesterday", label: "Yesterday" },
  { id: "last7", label: "Last 7 days" },
  { id: "thisMonth", label: "This month" },
];

function day(date: Date): string {
  const pad = (value: number) => String(value).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

function daysBefore(now: Date, days: number): Date {
  return new Date(now.getFullYear(), now.getMonth(), now.getDate() - days);
}

export function presetRange(preset: DatePreset, now: Date = new Date()): { from: string; to: string } {
  switch (preset) {
    case "today":
      return { from: day(now), to: day(now) };
    case "yesterday":
      return { from: day(daysBefore(now, 1)), to: day(daysBefore(now, 1)) };
    case "last7":
      return { from: day(daysBefore(now, 6)), to: day(now) };
    case "thisMonth":
      return { from: day(new Date(now.getFullYear(), now.getMonth(), 1)), to: day(now) };
  }
}

/** The preset a range is, if any ("" for any time, "custom" for anything else). */
export function presetOf(from: string, to: string, now: Date = new Date()): DatePreset | "" | "custom" {
  if (!from && !to) return "";
  const match = DATE_PRESETS.find(({ id }) => {
    const range = presetRange(id, now);
    return range.from === from && range.to === to;
  });
  return match?.id ?? "custom";
}
