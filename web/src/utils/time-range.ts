/** A range picked in the console's date-time pickers: both ends are whole seconds, both inclusive. */
export type PickedRange = [Date, Date];

/** The pickers' default times: whole days, so a picked end date means "up to the end of that day". */
export const WHOLE_DAYS: PickedRange = [new Date(2000, 0, 1, 0, 0, 0), new Date(2000, 0, 1, 23, 59, 59)];

/**
 * The API's `from` / `to` for a picked range. The API's upper bound is exclusive; the picker's end
 * second is meant inclusively, so `to` is one second after it.
 */
export function rangeBounds(range: PickedRange): { from: string; to: string } {
  return { from: range[0].toISOString(), to: new Date(range[1].getTime() + 1000).toISOString() };
}
