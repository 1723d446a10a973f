import fp from 'fastify-plugin';
import type { StorageContext } from '../../storage/store-object';
import type { RecordingsSettings } from '../../config';
import { probeFfmpeg } from '../../transcode';

declare module 'fastify' {
  interface FastifyInstance {
    recordingSettings: RecordingsSettings;
    storage: StorageContext;
    /** ffmpeg's version line, or undefined when it is not installed (AMR then only with ?format=original) */
    transcoder: string | undefined;
  }
}

export default fp<{ settings: RecordingsSettings }>(
  async (app, { settings }) => {
    app.decorate('recordingSettings', settings);
    app.decorate('storage', {
      db: app.db,
      minio: app.minio,
      keys: app.keys,
      bucket: app.recordingsBucket,
      partBytes: settings.partBytes,
      staleUploadMs: settings.staleUploadMs,
      log: app.log,
    });
    const transcoder = await probeFfmpeg(settings.ffmpegPath);
    if (!transcoder) {
      app.log.warn(
        { ffmpeg: settings.ffmpegPath },
        "ffmpeg is not installed: AMR recordings cannot be transcoded for browsers and are served only with ?format=original (install Debian's ffmpeg)",
      );
    }
    app.decorate('transcoder', transcoder);
  },
  { name: 'cz-recordings-storage', dependencies: ['cz-database', 'cz-minio', 'cz-keys'] },
);
