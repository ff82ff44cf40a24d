import { api, type ApiClient } from './client'
import type { Device, JoinOffer, SessionInfo } from './types'

const BASE = '/api/v1/session'

/** What a join redeems: the QR link's token or a typed code. */
export type JoinBy = { token: string; code?: never } | { code: string; token?: never }

/** Typed calls for the session's devices and for handing the session to another device. */
export function createDevicesApi(client: ApiClient = api) {
  return {
    list: async (signal?: AbortSignal) => (await client.get<{ devices: Device[] }>(`${BASE}/devices`, signal)).devices,
    /** Removes a device; this browser's own id means leaving (the server clears the cookie). */
    remove: (id: string) => client.delete<void>(`${BASE}/devices/${encodeURIComponent(id)}`),
    /** A new QR link and short code (replacing this device's last ones); starts a session if there is none. */
    offer: () => client.post<JoinOffer>(`${BASE}/join-offer`),
    /** Joins the session of a token or code; answers with the joined session. */
    join: (by: JoinBy, leaveCurrent: boolean) =>
      client.post<SessionInfo>(`${BASE}/join`, { ...by, leave_current: leaveCurrent }),
  }
}

export type DevicesApi = ReturnType<typeof createDevicesApi>

export const devicesApi = createDevicesApi()
