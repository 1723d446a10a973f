/** The recordings service's public API: its Fastify plugin and its settings. */
export { default, type RecordingsOptions } from './app';
export type { RecordingsSettings } from './config';
