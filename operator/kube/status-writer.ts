// Writes status through the status subresource with a JSON merge patch that carries the resourceVersion the status
// was computed from: if the object changed since (a spec edit the cache has not delivered yet), the API server
// answers 409 and the reconcile is retried against the newer object instead of stamping a stale observedGeneration.
import type { ObjectMeta } from '../../core/api/index.ts';
import type { StatusWriter } from '../controller/types.ts';
import { customPath } from './paths.ts';
import { KubeError, type KubeApi } from './rest.ts';

/** `fieldManager` names the writer in managedFields (per replica, so `kubectl get -o yaml` shows who wrote). */
export function kubeStatusWriter(api: KubeApi, fieldManager = 'portcullis-operator'): StatusWriter {
  return {
    async write(plural: string, metadata: ObjectMeta, status: unknown): Promise<boolean> {
      const path = customPath(plural, metadata.namespace ?? '', metadata.name, 'status');
      const res = await api.request('PATCH', path, {
        contentType: 'application/merge-patch+json',
        query: { fieldManager },
        // Reconcilers compute the whole status (lists included, which merge patches replace whole).
        body: { metadata: { resourceVersion: metadata.resourceVersion }, status },
      });
      if (res.status === 404) return false;
      if (res.status < 200 || res.status >= 300) throw new KubeError('PATCH', path, res.status, res.body);
      return true;
    },
  };
}
