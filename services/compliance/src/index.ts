/** The compliance service's public API: its Fastify plugin. */
export { default, type ComplianceOptions } from './app';
/** The lexicon store and its API alone (the portal's relay tests run them in-process). */
export { default as lexiconPlugin, type LexiconRuntime } from './plugins/app/lexicon';
export { default as lexiconRoutes } from './routes/lexicon';
