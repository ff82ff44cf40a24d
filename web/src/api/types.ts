/** Wire shapes of the gateway's public HTTP API (see shared DESIGN.md, "Public HTTP API"). */

export interface SessionLimits {
  max_images: number
  max_upload_mb: number
  expiry_days: number
}

/** GET /api/v1/session */
export interface SessionInfo {
  /** ISO 8601 with offset */
  created_at: string
  /** ISO 8601 with offset */
  expires_at: string
  image_count: number
  limits: SessionLimits
  /** Server version */
  version: string
}

/** Every error response from the API. */
export interface ApiErrorBody {
  error: {
    code: string
    message: string
    request_id?: string
  }
}

/** One entry of /health "services"; the gateway reports how many replicas answered. */
export interface ServiceHealth {
  replicas?: number
  version?: string
}

/** GET /health: 200 when healthy, 503 with `missing` when some service has no replica. */
export interface HealthBody {
  status: 'healthy' | 'unhealthy'
  version?: string
  missing?: string[]
  services?: Record<string, ServiceHealth>
}

/** What the app makes of a /health probe. */
export type HealthResult =
  | { status: 'healthy' }
  /** The gateway answered but some services are down. */
  | { status: 'degraded'; missing: string[] }
  /** No usable answer at all: network failure, timeout, a proxy's error page. */
  | { status: 'offline' }
