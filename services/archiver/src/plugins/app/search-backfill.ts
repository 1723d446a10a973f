import fp from 'fastify-plugin';
import { IndexPurposes, indexKeyFor } from '@cz/common';
import type { KeyProvider } from '@cz/common/crypto';
import { TokenHasher } from '@cz/common/search';
import { backfillStep } from '../../search/message-backfill';
import { transcriptBackfillStep } from '../../search/transcript-backfill';
import { customerRegistryHook } from '../../org/customers';

/**
 * Indexes messages archived before the search index existed, then call transcripts stored before
 * they were indexed, in the background after start-up.
 */
export default fp<{ keys: KeyProvider }>(
  async (app, { keys }) => {
    let stopped = false;
    let running: Promise<void> | undefined;
    const loop = async () => {
      const hasher = new TokenHasher(await indexKeyFor(keys, IndexPurposes.searchToken));
      const customers = customerRegistryHook(app.db, keys);
      let total = 0;
      while (!stopped) {
        try {
          const done = await backfillStep(app.db, keys, hasher, customers);
          if (done === 0) break;
          total += done;
        } catch (err) {
          app.log.error({ err }, 'search backfill step failed; retrying in 10 s');
          await new Promise((resolve) => setTimeout(resolve, 10000).unref());
        }
      }
      if (total > 0) app.log.info({ messages: total }, 'search backfill finished');
      let transcripts = 0;
      while (!stopped) {
        try {
          const done = await transcriptBackfillStep(app.db, keys, hasher);
          if (done === 0) break;
          transcripts += done;
        } catch (err) {
          app.log.error({ err }, 'transcript backfill step failed; retrying in 10 s');
          await new Promise((resolve) => setTimeout(resolve, 10000).unref());
        }
      }
      if (transcripts > 0) app.log.info({ transcripts }, 'transcript backfill finished');
    };
    app.addHook('onReady', async () => {
      running = loop();
    });
    app.addHook('onClose', async () => {
      stopped = true;
      await running;
    });
  },
  { name: 'cz-search-backfill', dependencies: ['cz-database'] },
);
