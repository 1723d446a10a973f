/** What a `search_token` row points at (column doc_kind); never renumber. */
export const SearchDocKinds = {
  /** a chat message: doc_id = message.id, doc_time = message.msgtime */
  message: 1,
  /** a call transcript: doc_id = call_record.id, doc_time = call_record.start_time */
  callTranscript: 2,
} as const;
export type SearchDocKind = (typeof SearchDocKinds)[keyof typeof SearchDocKinds];
