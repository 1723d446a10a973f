/** The compliance service's public API: its Fastify plugin. */
export { default, type ComplianceOptions } from './app';
