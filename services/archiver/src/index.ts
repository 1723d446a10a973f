/**
 * The archiver's public API: its Fastify plugin, and the storage and completeness functions that
 * other packages' tests, the benches and the test kit use to write archive rows the way it does.
 */
export { default, type ArchiverOptions } from './app';
export type { MessageRow } from './rows';
export { storeMessages } from './batch/chat-batch';
export { chatArchiveHooks } from './batch/chat-hooks';
export { writeSearchTokens } from './search/search-index';
export { completenessTimeZone } from './config';
export { dayIn } from './completeness/calendar-day';
export { reconcileDay } from './completeness/reconciliation';
export { resealV1, RESEAL_TABLES, type ResealCheckpoint, type ResealCounts } from './records/reseal-v1';
