/** Calendar days of completeness counting and reconciliation, in the configured time zone. */

/** Calendar day of an instant in a time zone, as YYYY-MM-DD. */
export function dayIn(timeZone: string, at: Date): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at);
}

/** Start (inclusive) and end (exclusive) of a calendar day in a time zone, as UTC instants. */
export function dayBounds(day: string, timeZone: string): [Date, Date] {
  const guess = new Date(`${day}T00:00:00Z`);
  // offset of the zone at that day: format the UTC midnight in the zone and compare
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  }).formatToParts(guess);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const asZone = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'));
  const start = new Date(guess.getTime() - (asZone - guess.getTime()));
  return [start, new Date(start.getTime() + 24 * 3600 * 1000)];
}
