/*
 * Content types of uploads: call recordings must be one of the audio formats call centres write
 * (and the body must look like it); chat media may be any well-formed type.
 */

export const RecordingTypes = ['audio/wav', 'audio/mpeg', 'audio/amr', 'audio/amr-wb'] as const;
export type RecordingType = (typeof RecordingTypes)[number];

const ALIASES: Readonly<Record<string, RecordingType>> = {
  'audio/wav': 'audio/wav',
  'audio/wave': 'audio/wav',
  'audio/x-wav': 'audio/wav',
  'audio/vnd.wave': 'audio/wav',
  'audio/mpeg': 'audio/mpeg',
  'audio/mp3': 'audio/mpeg',
  'audio/mpeg3': 'audio/mpeg',
  'audio/x-mpeg-3': 'audio/mpeg',
  'audio/amr': 'audio/amr',
  'audio/amr-wb': 'audio/amr-wb',
};

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const MEDIA_TYPE = new RegExp(`^(${TOKEN})/(${TOKEN})\\s*(?:;.*)?$`);

/** `type/subtype` in lower case without parameters, or undefined if the header is missing or malformed. */
export function mediaTypeOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = MEDIA_TYPE.exec(header.trim());
  if (!match) return undefined;
  return `${match[1]}/${match[2]}`.toLowerCase();
}

export function recordingTypeOf(header: string | undefined): RecordingType | undefined {
  const type = mediaTypeOf(header);
  return type === undefined ? undefined : ALIASES[type];
}

/** AMR is not played by browsers; it is transcoded to MP3 for playback. */
export const needsTranscode = (contentType: string): boolean =>
  contentType === 'audio/amr' || contentType === 'audio/amr-wb';

/** Bytes needed to tell whether a body starts like its declared type. */
export const SNIFF_BYTES = 12;

const startsWith = (head: Buffer, text: string) =>
  head.subarray(0, text.length).equals(Buffer.from(text, 'latin1'));

/** Does `head` (the first bytes of the body, SNIFF_BYTES or the whole body if shorter) look like `type`? */
export function looksLike(type: RecordingType, head: Buffer): boolean {
  switch (type) {
    case 'audio/wav':
      return (
        (startsWith(head, 'RIFF') || startsWith(head, 'RF64')) &&
        head.subarray(8, 12).toString('latin1') === 'WAVE'
      );
    case 'audio/mpeg':
      // an ID3v2 tag, or an MPEG audio frame sync (11 set bits)
      return startsWith(head, 'ID3') || (head.length >= 2 && head[0] === 0xff && (head[1]! & 0xe0) === 0xe0);
    case 'audio/amr':
      return startsWith(head, '#!AMR\n');
    case 'audio/amr-wb':
      return startsWith(head, '#!AMR-WB\n');
  }
}
