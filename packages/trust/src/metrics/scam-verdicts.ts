/** The security signals the scam guard records for its verdicts. */
export const SCAM_SIGNAL_KINDS = ['scam.link_warned', 'scam.link_blocked'] as const;

export interface ScamVerdictDay {
  day: string;
  warned: number;
  blocked: number;
}

/** The scam guard's `scam.link_warned` / `scam.link_blocked` signals, per UTC day. */
export function scamVerdictsPerDay(
  signals: readonly { kind: string; at: Date }[],
): ScamVerdictDay[] {
  const days = new Map<string, ScamVerdictDay>();
  for (const s of signals) {
    const day = s.at.toISOString().slice(0, 10);
    const entry = days.get(day) ?? { day, warned: 0, blocked: 0 };
    if (s.kind === 'scam.link_warned') entry.warned++;
    else if (s.kind === 'scam.link_blocked') entry.blocked++;
    else continue;
    days.set(day, entry);
  }
  return [...days.values()].sort((a, b) => a.day.localeCompare(b.day));
}
