import { useId } from "react";

interface ToggleGroupProps<T extends string> {
  label: string;
  options: readonly T[];
  selected: readonly T[];
  onChange: (selected: T[]) => void;
  renderOption?: (option: T) => string;
}

/** A multi-select as a row of toggle buttons: every option visible, one keystroke away. */
export function ToggleGroup<T extends string>({ label, options, selected, onChange, renderOption }: ToggleGroupProps<T>) {
  const labelId = useId();
  const toggle = (option: T) =>
    onChange(
      selected.includes(option)
        ? selected.filter((value) => value !== option)
        : options.filter((value) => value === option || selected.includes(value)),
    );
  return (
    <div className="toggle-group" role="group" aria-labelledby={labelId}>
      <span id={labelId} className="field-label">
        {label}
      </span>
      <div className="toggle-options">
        {options.map((option) => (
          <button
            key={option}
            type="button"
            className="toggle"
            aria-pressed={selected.includes(option)}
            onClick={() => toggle(option)}
          >
            {renderOption ? renderOption(option) : option}
          </button>
        ))}
      </div>
    </div>
  );
}
