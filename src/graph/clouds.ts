/**
 * The national cloud deployments the create-call API is available in (seed 004, "This API is
 * available in the following national cloud deployments"). Each has its own sign-in authority
 * and its own Graph endpoint; a token from one is worthless in another.
 */
export interface NationalCloud {
  name: NationalCloudName;
  /** As the Graph documentation names it. */
  displayName: string;
  /** Where tokens come from: `${authorityHost}/${tenantId}` is the authority. */
  authorityHost: string;
  /** Graph's root, without a version; `${graphEndpoint}/.default` is the token scope. */
  graphEndpoint: string;
}

export const nationalCloudNames = ['global', 'usGovL4', 'usGovL5DoD', 'china'] as const;
export type NationalCloudName = (typeof nationalCloudNames)[number];

export const nationalClouds: Readonly<Record<NationalCloudName, NationalCloud>> = {
  global: {
    name: 'global',
    displayName: 'Global service',
    authorityHost: 'https://login.microsoftonline.com',
    graphEndpoint: 'https://graph.microsoft.com',
  },
  usGovL4: {
    name: 'usGovL4',
    displayName: 'US Government L4',
    authorityHost: 'https://login.microsoftonline.us',
    graphEndpoint: 'https://graph.microsoft.us',
  },
  usGovL5DoD: {
    name: 'usGovL5DoD',
    displayName: 'US Government L5 (DOD)',
    authorityHost: 'https://login.microsoftonline.us',
    graphEndpoint: 'https://dod-graph.microsoft.us',
  },
  china: {
    name: 'china',
    displayName: 'China operated by 21Vianet',
    authorityHost: 'https://login.chinacloudapi.cn',
    graphEndpoint: 'https://microsoftgraph.chinacloudapi.cn',
  },
};

export const defaultNationalCloud: NationalCloud = nationalClouds.global;

/**
 * Looks a cloud up by name, ignoring case, `-` and `_` (so `US_GOV_L4` and `usgov-l4` work in
 * environment variables). Throws an error listing the valid names.
 */
export function nationalCloud(name: string): NationalCloud {
  const wanted = name.replace(/[-_\s]/g, '').toLowerCase();
  const cloud = nationalCloudNames.find((candidate) => candidate.toLowerCase() === wanted);
  if (cloud === undefined) {
    throw new Error(`Unknown national cloud "${name}": use one of ${nationalCloudNames.join(', ')}`);
  }
  return nationalClouds[cloud];
}

/** The base URL a GraphClient is given: the cloud's Graph endpoint plus an API version. */
export function graphBaseUrl(cloud: NationalCloud, version: 'v1.0' | 'beta' = 'v1.0'): string {
  return `${cloud.graphEndpoint}/${version}`;
}
