import { pinyin } from 'pinyin-pro';

/*
 * Pinyin forms of a Han term, computed when a lexicon is compiled (never per text): the full pinyin
 * (baobenbaoxi), the initials (jwx) and the mixed forms people type (bb理财, 加weixin, 加wx). They
 * match only in the text's ASCII runs and only as whole words there (the engine checks the
 * boundaries), so English words do not alert.
 */

export interface PinyinForm {
  text: string;
  via: 'pinyin' | 'initials';
}

const HAN_ONLY = /^\p{Script=Han}+$/u;
/** Initials alone are accepted from 3 characters on: 2 letters (bb, hk) are everyday abbreviations. */
const MIN_INITIALS = 3;
/** Full pinyin shorter than this (ai, fan) is an English word too often. */
const MIN_PINYIN_LETTERS = 5;
/** A term longer than this gets only its full forms: the mixed ones grow with its length. */
const MAX_MIXED_LENGTH = 8;

export const isHanTerm = (term: string) => HAN_ONLY.test(term) && term.length >= 2;

export function pinyinForms(term: string): PinyinForm[] {
  if (!isHanTerm(term)) return [];
  const syllables = pinyin(term, { toneType: 'none', type: 'array', v: true }).map((s) => s.toLowerCase());
  if (syllables.length !== term.length || syllables.some((s) => !/^[a-z]+$/.test(s))) return [];
  const initials = syllables.map((s) => s[0]!);
  const chars = [...term];
  const forms: PinyinForm[] = [];
  const full = syllables.join('');
  if (full.length >= MIN_PINYIN_LETTERS) forms.push({ text: full, via: 'pinyin' });
  if (term.length >= MIN_INITIALS) forms.push({ text: initials.join(''), via: 'initials' });
  if (term.length <= MAX_MIXED_LENGTH) {
    for (let split = 1; split < term.length; split++) {
      const head = chars.slice(0, split).join('');
      const tail = chars.slice(split).join('');
      // pinyin or initials first, Han after (bb理财, baoben理财)
      forms.push({ text: syllables.slice(0, split).join('') + tail, via: 'pinyin' });
      if (split >= 2) forms.push({ text: initials.slice(0, split).join('') + tail, via: 'initials' });
      // Han first, pinyin or initials after (加weixin, 加wx)
      forms.push({ text: head + syllables.slice(split).join(''), via: 'pinyin' });
      if (term.length - split >= 2)
        forms.push({ text: head + initials.slice(split).join(''), via: 'initials' });
    }
  }
  return forms;
}
