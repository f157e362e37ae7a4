import { type ReactNode, useEffect, useRef } from 'react';
import { hasNavigated } from '../router.tsx';

/**
 * A page's heading: focused when the person moves to the page (so keyboard and screen reader
 * users land on the new page, not on the link they followed; the first page of a visit keeps
 * the browser's own start, where the skip link comes first), and the document title follows it.
 */
export function PageHeading({ children, title }: { children: ReactNode; title: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Parley`;
    if (hasNavigated()) ref.current?.focus({ preventScroll: true });
  }, [title]);
  return (
    <h1 ref={ref} tabIndex={-1} className="page-heading">
      {children}
    </h1>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="loading" role="status">
      <span className="spinner" aria-hidden="true" /> {label}
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}
