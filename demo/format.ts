/** How a column's values read on an axis: dates for timestamps (by unit), numbers otherwise. */
export type ValueFormat = (value: number) => string;

const UNIT_MS: Record<string, number> = { SECOND: 1e3, MILLISECOND: 1, MICROSECOND: 1e-3, NANOSECOND: 1e-6 };

/** The format of an Arrow type's values (`Timestamp<MILLISECOND>`, `Date32<DAY>`, `Float32`…) spanning `span`. */
export function valueFormat(arrowType: string, span: number): ValueFormat {
  const unit = /^Timestamp<(\w+)/.exec(arrowType)?.[1];
  const toMs = unit ? UNIT_MS[unit] : arrowType.startsWith('Date32') ? 86_400_000 : undefined;
  if (toMs !== undefined) {
    const days = (span * toMs) / 86_400_000;
    return (v) => {
      const iso = new Date(v * toMs).toISOString();
      return days > 2 ? iso.slice(0, 10) : iso.slice(5, 16).replace('T', ' ');
    };
  }
  const digits = span >= 100 ? 0 : span >= 10 ? 1 : span >= 1 ? 2 : 3;
  return (v) =>
    Math.abs(v) >= 1e7
      ? v.toExponential(2)
      : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}
