/*
 * Two small hand-written SVG charts (no charting dependency): lines over time, and bars over
 * time. Both scale to their container's width (viewBox) and come with a text summary for
 * screen readers; the data is also in a table next to them.
 */

export interface LineSeries {
  label: string;
  color: string;
  dashed?: boolean;
  points: { at: number; value: number }[];
}

const W = 640;
const H = 220;
const PAD = { top: 12, right: 12, bottom: 28, left: 56 };

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (value <= step * magnitude) return step * magnitude;
  return 10 * magnitude;
}

function axis(
  times: number[],
  maxValue: number,
  format: (v: number) => string,
  formatTime: (t: number) => string,
  counts = false,
) {
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  // Counts get whole-number ticks (a multiple of 4 for the 4 steps).
  const top = counts ? Math.max(4, Math.ceil(maxValue / 4) * 4) : niceMax(maxValue);
  const x = (t: number) =>
    PAD.left +
    (t1 === t0
      ? (W - PAD.left - PAD.right) / 2
      : ((t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right));
  const y = (v: number) => PAD.top + (1 - v / top) * (H - PAD.top - PAD.bottom);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * top);
  const grid = (
    <g className="chart-grid">
      {ticks.map((v) => (
        <g key={v}>
          <line x1={PAD.left} x2={W - PAD.right} y1={y(v)} y2={y(v)} />
          <text x={PAD.left - 6} y={y(v) + 4} textAnchor="end">
            {format(v)}
          </text>
        </g>
      ))}
      <text x={PAD.left} y={H - 8} textAnchor="start">
        {formatTime(t0)}
      </text>
      {t1 !== t0 ? (
        <text x={W - PAD.right} y={H - 8} textAnchor="end">
          {formatTime(t1)}
        </text>
      ) : null}
    </g>
  );
  return { x, y, grid };
}

export function LineChart({
  title,
  series,
  format,
  formatTime,
}: {
  title: string;
  series: LineSeries[];
  format: (v: number) => string;
  formatTime: (t: number) => string;
}) {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return null;
  const { x, y, grid } = axis(
    all.map((p) => p.at),
    Math.max(...all.map((p) => p.value)),
    format,
    formatTime,
  );
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title}>
        {grid}
        {series.map((s) => {
          const sorted = [...s.points].sort((a, b) => a.at - b.at);
          return (
            <g key={s.label}>
              <polyline
                fill="none"
                stroke={s.color}
                strokeWidth={2}
                strokeDasharray={s.dashed ? '6 4' : undefined}
                points={sorted.map((p) => `${x(p.at)},${y(p.value)}`).join(' ')}
              />
              {sorted.map((p) => (
                <circle key={p.at} cx={x(p.at)} cy={y(p.value)} r={3} fill={s.color}>
                  <title>
                    {s.label}: {format(p.value)} at {formatTime(p.at)}
                  </title>
                </circle>
              ))}
            </g>
          );
        })}
      </svg>
      <figcaption className="legend">
        {series.map((s) => (
          <span key={s.label}>
            <svg width="24" height="8" aria-hidden="true">
              <line
                x1="0"
                x2="24"
                y1="4"
                y2="4"
                stroke={s.color}
                strokeWidth={2}
                strokeDasharray={s.dashed ? '6 4' : undefined}
              />
            </svg>{' '}
            {s.label}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

export function BarChart({
  title,
  bars,
  formatTime,
}: {
  title: string;
  bars: { at: number; ok: number; failed: number }[];
  formatTime: (t: number) => string;
}) {
  if (bars.length === 0) return null;
  const { x, y, grid } = axis(
    bars.map((b) => b.at),
    Math.max(...bars.map((b) => b.ok + b.failed)),
    (v) => String(v),
    formatTime,
    true,
  );
  const width = Math.max(4, Math.min(28, (W - PAD.left - PAD.right) / (bars.length * 1.6)));
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title}>
        {grid}
        {bars.map((b) => (
          <g key={b.at}>
            <rect
              x={x(b.at) - width / 2}
              y={y(b.ok + b.failed)}
              width={width}
              height={y(b.ok) - y(b.ok + b.failed)}
              className="bar-failed"
            />
            <rect
              x={x(b.at) - width / 2}
              y={y(b.ok)}
              width={width}
              height={y(0) - y(b.ok)}
              className="bar-ok"
            >
              <title>
                {formatTime(b.at)}: {b.ok} ok, {b.failed} failed
              </title>
            </rect>
          </g>
        ))}
      </svg>
      <figcaption className="legend">
        <span>
          <span className="swatch bar-ok" aria-hidden="true" /> runs that finished
        </span>
        <span>
          <span className="swatch bar-failed" aria-hidden="true" /> failed or cancelled
        </span>
      </figcaption>
    </figure>
  );
}
