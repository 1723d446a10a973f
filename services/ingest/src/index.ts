/** The ingest service's public API: its Fastify plugin. */
export { default, type IngestOptions } from './app';
