"""Images: upload, list, read, delete, and the ZIP of a selection."""

from __future__ import annotations

from gateway.openapi import ApiRoute
from gateway.ratelimit import UPLOADS
from gateway.views import archive, images, upload
from gateway.views.common import IdsBody, ImageView
from gateway.views.images import ImageListView
from gateway.views.upload import UploadForm, UploadResult
from imagetools_common.contracts import image as contract

IMAGES: tuple[ApiRoute, ...] = (
    ApiRoute(
        "GET",
        "/api/v1/images",
        images.list_images,
        "The session's images, newest first",
        "images",
        response=ImageListView,
    ),
    ApiRoute(
        "POST",
        "/api/v1/images",
        upload.upload_images,
        "Upload images",
        "images",
        status=201,
        body=UploadForm,
        body_type="multipart/form-data",
        response=UploadResult,
        errors=(409,),
        idempotent=True,
        description="multipart/form-data with one or more parts named `file`. The type is decided from "
        "the content: JPEG, PNG, WebP, GIF (first frame), BMP, TIFF, HEIC/HEIF, AVIF. "
        "With several files, those refused are listed in `errors`; if all are refused the "
        "first refusal is the response.",
        limit=UPLOADS,
        creates_session=True,
    ),
    ApiRoute(
        "POST",
        "/api/v1/images/delete",
        images.delete_selected,
        "Delete the selected images",
        "images",
        body=IdsBody,
        response=contract.Deleted,
    ),
    ApiRoute(
        "DELETE",
        "/api/v1/images",
        images.clear_images,
        "Delete every image of the session",
        "images",
        response=contract.Deleted,
    ),
    ApiRoute(
        "GET",
        "/api/v1/images/{image_id}",
        images.get_image,
        "One image with its history",
        "images",
        response=ImageView,
        errors=(404,),
    ),
    ApiRoute(
        "DELETE",
        "/api/v1/images/{image_id}",
        images.delete_image,
        "Delete an image",
        "images",
        status=204,
        errors=(404,),
    ),
    ApiRoute(
        "GET",
        "/api/v1/images/{image_id}/content",
        images.image_content,
        "The image's bytes",
        "images",
        content_type="image/*",
        errors=(404,),
        query=("version", "original", "download"),
        etag=True,
        description="The current version; `?version=N` for another (cacheable forever), "
        "`?original=true` for the upload as received, `&download=1` for an attachment.",
    ),
    ApiRoute(
        "GET",
        "/api/v1/images/{image_id}/thumbnail",
        images.image_thumbnail,
        "A WebP thumbnail",
        "images",
        content_type="image/webp",
        errors=(404,),
        query=("version",),
        etag=True,
    ),
    ApiRoute(
        "GET",
        "/api/v1/images/{image_id}/metadata",
        images.image_metadata,
        "EXIF and GPS",
        "images",
        response=contract.ImageMetadata,
        errors=(404,),
    ),
)

ARCHIVE: tuple[ApiRoute, ...] = (
    ApiRoute(
        "POST",
        "/api/v1/archive",
        archive.archive,
        "A ZIP of the selected images",
        "images",
        body=IdsBody,
        content_type="application/zip",
        errors=(404,),
    ),
)
