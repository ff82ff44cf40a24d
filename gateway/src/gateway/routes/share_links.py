"""Share links of an image, for its session (the public /s/ pages are not part of the API)."""

from __future__ import annotations

from gateway.openapi import ApiRoute
from gateway.ratelimit import OPERATIONS
from gateway.views import share_links
from gateway.views.share_links import ShareLinkBody, ShareLinkCreatedView
from imagetools_common.contracts import image as contract

ROUTES: tuple[ApiRoute, ...] = (
    ApiRoute(
        "POST",
        "/api/v1/images/{image_id}/share-links",
        share_links.create_link,
        "Make a public link to a version",
        "share links",
        status=201,
        body=ShareLinkBody,
        response=ShareLinkCreatedView,
        errors=(404, 409),
        limit=OPERATIONS,
        description="Anyone with the link sees that version and can download it, without the session, "
        "until it expires (at most when the session ends) or is revoked. A version that holds a location "
        "is served without it. The link's path is in this answer only.",
    ),
    ApiRoute(
        "GET",
        "/api/v1/images/{image_id}/share-links",
        share_links.list_links,
        "The image's live share links",
        "share links",
        response=contract.ShareLinkList,
        errors=(404,),
    ),
    ApiRoute(
        "DELETE",
        "/api/v1/images/{image_id}/share-links/{link_id}",
        share_links.revoke_link,
        "Revoke a share link",
        "share links",
        status=204,
        errors=(404,),
    ),
)
