/**
 * The puller's public API: its Fastify plugin, and the media fetch and Finance-SDK child that the
 * puller benchmark drives directly.
 */
export { default, type PullerOptions } from './app';
export { fetchMedia, recordingsSink } from './pull/media';
export { SdkChild } from './sdk/sdk-child';
