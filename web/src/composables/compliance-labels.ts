import type { AlertHit, AlertSeverity, HitVia, LexiconCategory, LexiconHit } from '@cz/contracts';
import { useI18n } from 'vue-i18n';
import type { HitMark } from '@/utils/compliance';

/** The compliance pages' labels: categories, kinds, severities, how a hit matched. */
export function useComplianceLabels() {
  const { t, te } = useI18n();

  const categoryLabel = (category: LexiconCategory | null | undefined): string =>
    category && te(`alerts.kinds.lexicon.${category}`)
      ? t(`alerts.kinds.lexicon.${category}`)
      : (category ?? '—');

  /** `lexicon.guaranteed_return` → 保本保收益承诺; other kinds by their own label */
  const kindLabel = (kind: string): string => (te(`alerts.kinds.${kind}`) ? t(`alerts.kinds.${kind}`) : kind);

  const severityLabel = (severity: AlertSeverity): string => t(`alerts.severity.${severity}`);

  const viaLabel = (via: HitVia): string => (te(`hitVia.${via}`) ? t(`hitVia.${via}`) : via);

  /** What the inbox shows for a hit: the lexicon's word, or for a regular expression its rule (patterns are long). */
  const hitTermLabel = (hit: AlertHit): string =>
    hit.via === 'regex' ? t('alertCenter.regexTerm', { rule: hit.ruleId }) : hit.term;

  /** A hit of the tester (with its explanation) or of an alert, as a mark with tooltip lines. */
  function hitMark(hit: LexiconHit | AlertHit, explanation?: string): HitMark {
    const lines = [
      `${categoryLabel(hit.category)} · ${severityLabel(hit.severity)}`,
      `${t('alertCenter.detail.hitTerm')}：${hit.term}（${viaLabel(hit.via)}）`,
    ];
    const why = 'explanation' in hit ? hit.explanation : explanation;
    if (why) lines.push(why);
    if ('reg' in hit && hit.reg.length) lines.push(hit.reg.join(' · '));
    return { start: hit.start, end: hit.end, severity: hit.severity, lines };
  }

  return { categoryLabel, kindLabel, severityLabel, viaLabel, hitMark, hitTermLabel };
}
