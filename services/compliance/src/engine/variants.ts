/*
 * The evasion tables the engine is built from: data, not code, so that each one can be read,
 * reviewed and tested on its own. Every value is written in the normalised alphabet (simplified,
 * lower case, half width), since it is applied after the base normalisation.
 */

/**
 * Single characters written for another one of the same sound or shape (薇信, 徽信, +微). Applied
 * to the text and the terms alike (the view the automaton sees), so a mapped character only matters
 * where the mapped sequence spells a term. Keep it to characters whose swap is a known evasion.
 */
export const CHAR_HOMOPHONES: Readonly<Record<string, string>> = {
  薇: '微',
  徽: '微',
  威: '微',
  溦: '微',
  伽: '加',
  珈: '加',
  枷: '加',
  '+': '加',
  芯: '信',
  帐: '账',
  䝉: '账',
};

/**
 * Phrases written another way that a character table cannot express (扣扣 for QQ, vx for 微信):
 * every term containing the key also matches with the key replaced by each variant. Applied when a
 * lexicon is compiled, so the text is never rewritten for them.
 */
export const PHRASE_VARIANTS: Readonly<Record<string, readonly string[]>> = {
  微信: ['vx', 'v信', 'wx', 'wechat', '维信', '围信', 'weixin'],
  qq: ['扣扣', '抠抠', '企鹅', 'q号'],
  保本: ['宝本', '包本', '饱本'],
  保息: ['宝息', '包息'],
  稳赚: ['稳转', '吻赚'],
  返点: ['反点', '饭点'],
  回扣: ['回抠'],
  转账: ['专账', '赚账'],
  贷款: ['带款', '代款', '袋款'],
  无抵押: ['无底押', '乌抵押'],
  征信: ['争信', '正信'],
  投诉: ['头诉', '投素'],
  支付宝: ['zfb', '支负宝'],
  银行卡: ['yhk', '银卡'],
  身份证: ['sfz', '身分证'],
  验证码: ['yzm', '验证吗'],
  私人: ['司人', '丝人'],
  利息: ['利吸'],
};

/**
 * Words that negate what follows (不保本, 请勿私下转账, 我们不收取任何加急费). A hit right after one
 * is dropped unless its entry says `negatable: false`. `window`: how many characters may stand
 * between the cue and the hit (不会向您承诺…); a clause break (，。！？；) in between always ends it.
 */
export const NEGATION_CUES: readonly { cue: string; window: number }[] = [
  // bare negators: only immediately before the hit, or 不过/不仅 would negate what they introduce
  ...['不', '非', '勿', '别', '莫', '未', '无须', '无需', '免'].map((cue) => ({ cue, window: 0 })),
  ...[
    '不是',
    '并非',
    '并不',
    '决非',
    '绝非',
    '不会',
    '不能',
    '不可',
    '不可以',
    '不要',
    '不用',
    '不需要',
    '不必',
    '不存在',
    '没有',
    '没',
    '从不',
    '从未',
    '从来不',
    '绝不',
    '决不',
    '绝对不',
    '不承诺',
    '不保证',
    '不提供',
    '不接受',
    '不允许',
    '不支持',
    '不收取',
    '不收取任何',
    '不收任何',
  ].map((cue) => ({ cue, window: 2 })),
  ...['请勿', '切勿', '严禁', '禁止', '不得', '拒绝', '杜绝', '谨防', '警惕', '防范', '小心', '当心'].map(
    (cue) => ({ cue, window: 4 }),
  ),
];

/** Characters that end a clause: a negation does not reach across them. */
export const CLAUSE_BREAKS = '，。！？；：,.!?;:\n\r…';
