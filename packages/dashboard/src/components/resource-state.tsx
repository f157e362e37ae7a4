import type { Resource } from '../api/use-resource.ts';
import { ErrorBanner } from './error-banner.tsx';
import { Loading } from './page.tsx';

/**
 * What a view's resources are doing before they can be shown: each one's failure with a
 * retry, and one spinner while any of them loads for the first time.
 */
export function ResourceState({ of }: { of: Resource<unknown>[] }) {
  return (
    <>
      {of.map((resource, index) =>
        resource.error ? (
          // biome-ignore lint/suspicious/noArrayIndexKey: the list is fixed by the view
          <ErrorBanner key={index} error={resource.error} onRetry={() => void resource.reload()} />
        ) : null,
      )}
      {of.some((resource) => resource.loading && !resource.data) ? <Loading /> : null}
    </>
  );
}
