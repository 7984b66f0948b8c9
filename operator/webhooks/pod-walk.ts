// Walking a pod's containers and volumes with the field path a refusal message names.
import type { V1Container, V1EphemeralContainer, V1Pod, V1PodSpec } from '@kubernetes/client-node';
import { SIDECAR_CONTAINER } from './names.ts';

export type ContainerList = 'initContainers' | 'containers' | 'ephemeralContainers';

export interface ContainerRef {
  readonly list: ContainerList;
  readonly index: number;
  readonly container: V1Container | V1EphemeralContainer;
  /** `spec.containers[0] "agent"` — for messages. */
  readonly where: string;
}

const LISTS: readonly ContainerList[] = ['initContainers', 'containers', 'ephemeralContainers'];

/** Every container of the pod, init and ephemeral ones included, in spec order. */
export function* allContainers(spec: V1PodSpec | undefined): Generator<ContainerRef> {
  if (!spec) return;
  for (const list of LISTS) {
    const items = (spec[list] ?? []) as readonly (V1Container | V1EphemeralContainer)[];
    for (let index = 0; index < items.length; index++) {
      const container = items[index]!;
      yield { list, index, container, where: `spec.${list}[${index}] ${JSON.stringify(container.name)}` };
    }
  }
}

/** Every container but the Portcullis sidecar: the agent's containers, whatever their list. */
export function* agentContainers(spec: V1PodSpec | undefined): Generator<ContainerRef> {
  for (const ref of allContainers(spec)) if (!isSidecar(ref)) yield ref;
}

export function isSidecar(ref: ContainerRef): boolean {
  return ref.list === 'initContainers' && ref.container.name === SIDECAR_CONTAINER;
}

export function findSidecar(pod: V1Pod): V1Container | undefined {
  return pod.spec?.initContainers?.find((c) => c.name === SIDECAR_CONTAINER);
}

export function podLabels(pod: V1Pod): Readonly<Record<string, string>> {
  return pod.metadata?.labels ?? {};
}

export function podAnnotations(pod: V1Pod): Readonly<Record<string, string>> {
  return pod.metadata?.annotations ?? {};
}

/** A deep copy through JSON: pods arrive as JSON and leave as a JSON patch, so nothing is lost. */
export function clonePod(pod: V1Pod): V1Pod {
  return JSON.parse(JSON.stringify(pod)) as V1Pod;
}
