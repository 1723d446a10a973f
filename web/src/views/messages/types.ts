/** What the filter bar edits; turned into a `MessageListQuery` on search. */
export interface MessageFilters {
  employee: string;
  /** Inclusive start and inclusive end, to the second, as shown in the picker. */
  range: [Date, Date] | null;
}

export function emptyFilters(): MessageFilters {
  return { employee: '', range: null };
}
