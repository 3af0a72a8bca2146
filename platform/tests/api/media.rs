//! Media: upload judged from the bytes, content addressing, immutable download, ranges.

use palier_content::demo::sha256_hex;
use palier_platform::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

async fn upload(p: &Platform, token: &str, bytes: Vec<u8>) -> reqwest::Response {
    p.http
        .post(p.url("/v1/publish/media"))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn uploads_are_content_addressed_and_served_immutable_with_ranges() {
    let p = Platform::start().await;
    let a = p.building("Les Tilleuls").await;
    let shop = p.publisher(Role::Shop, &[&a]).await;
    let original = png(600, 400, 7);
    let first = upload(&p, &shop, original.clone()).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let media: Value = first.json().await.unwrap();
    let second = upload(&p, &shop, original.clone()).await;
    assert_eq!(second.status(), StatusCode::OK, "idempotent");
    assert_eq!(second.json::<Value>().await.unwrap(), media);

    // What is stored and served is the normalised picture, addressed by its own bytes.
    let device = p.enrol(&a, &["lift"]).await;
    let sha = media["sha256"].as_str().unwrap().to_owned();
    let path = format!("/v1/media/{sha}");
    let bytes = p.get(&path, &device.token).await.bytes().await.unwrap().to_vec();
    assert_eq!(
        media,
        json!({"sha256": sha256_hex(&bytes), "bytes": bytes.len(), "mime": "image/png", "width": 600, "height": 400})
    );
    let whole = p.get(&path, &device.token).await;
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(header(&whole, "content-type"), "image/png");
    assert_eq!(header(&whole, "cache-control"), "public, max-age=31536000, immutable");
    assert_eq!(header(&whole, "etag"), format!("\"{sha}\""));
    assert_eq!(header(&whole, "accept-ranges"), "bytes");
    assert_eq!(header(&whole, "content-length"), bytes.len().to_string());
    assert!(whole.headers().get("content-encoding").is_none());
    assert_eq!(whole.bytes().await.unwrap().to_vec(), bytes);

    let ranged = |range: &'static str| {
        let request = p.http.get(p.url(&path)).bearer_auth(&device.token).header("range", range);
        async move { request.send().await.unwrap() }
    };
    let size = bytes.len();
    let tail = ranged("bytes=1000-").await;
    assert_eq!(tail.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(header(&tail, "content-range"), format!("bytes 1000-{}/{size}", size - 1));
    assert_eq!(tail.bytes().await.unwrap().to_vec(), bytes[1000..]);
    let middle = ranged("bytes=5-9").await;
    assert_eq!(header(&middle, "content-length"), "5");
    assert_eq!(middle.bytes().await.unwrap().to_vec(), bytes[5..10]);
    let suffix = ranged("bytes=-4").await;
    assert_eq!(suffix.bytes().await.unwrap().to_vec(), bytes[size - 4..]);
    let beyond = ranged(Box::leak(format!("bytes={}-", size + 10).into_boxed_str())).await;
    assert_eq!(header(&beyond, "content-range"), format!("bytes */{size}"));
    error(beyond, StatusCode::RANGE_NOT_SATISFIABLE, "range_not_satisfiable").await;

    let cached = p
        .http
        .get(p.url(&path))
        .bearer_auth(&device.token)
        .header("if-none-match", format!("\"{}\"", sha256_hex(&bytes)))
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);

    error(
        p.get(&format!("/v1/media/{}", "0".repeat(64)), &device.token).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    error(p.get("/v1/media/not-hex", &device.token).await, StatusCode::NOT_FOUND, "not_found").await;
    error(
        p.get(&format!("/v1/media/{}", sha256_hex(&bytes).to_uppercase()), &device.token).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    error(p.http.get(p.url(&path)).send().await.unwrap(), StatusCode::UNAUTHORIZED, "unauthorized").await;
    error(p.get(&path, &shop).await, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[tokio::test]
async fn uploads_that_are_not_pictures_or_too_large_are_refused_before_storing() {
    let p = Platform::start().await;
    let a = p.building("Les Tilleuls").await;
    let shop = p.publisher(Role::Shop, &[&a]).await;
    let message = error(
        upload(&p, &shop, b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec()).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    assert!(message.contains("JPEG, PNG or WebP"), "{message}");
    let gif = b"GIF89a\x10\x00\x10\x00\x00\x00\x00".to_vec();
    error(upload(&p, &shop, gif).await, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;
    let huge_header = png_header(30000, 30000);
    let message = error(
        upload(&p, &shop, huge_header.clone()).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    )
    .await;
    assert!(message.contains("30000×30000") && message.contains("20000"), "{message}");
    let mut cut = png(300, 200, 1);
    cut.truncate(cut.len() / 2);
    let message =
        error(upload(&p, &shop, cut).await, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            .await;
    assert!(message.contains("does not decode whole"), "{message}");
    let too_big = vec![0u8; 32 * 1024 * 1024 + 1];
    error(upload(&p, &shop, too_big).await, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    let encoded = p
        .http
        .post(p.url("/v1/publish/media"))
        .bearer_auth(&shop)
        .header("content-encoding", "gzip")
        .body(png(10, 10, 0))
        .send()
        .await
        .unwrap();
    error(encoded, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;
    error(
        p.http.post(p.url("/v1/publish/media")).body(png(10, 10, 2)).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    let device = p.enrol(&a, &["lift"]).await;
    let refused = format!("/v1/media/{}", sha256_hex(&huge_header));
    error(p.get(&refused, &device.token).await, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn items_reference_uploaded_media_by_address() {
    let p = Platform::start().await;
    let a = p.building("Les Tilleuls").await;
    let shop = p.publisher(Role::Shop, &[&a]).await;
    let bytes = png(600, 400, 10);
    let media: Value = upload(&p, &shop, bytes.clone()).await.json().await.unwrap();
    assert_eq!(media["width"], 600);
    let mut item = promo("promo-cafe");
    item["media"] = json!([{"sha256": media["sha256"], "credit": "Photo : Café Pradel"}]);
    let published = p.publish(&shop, &item).await;
    assert_eq!(published["item"]["media"][0]["width"], 600);
    assert_eq!(published["item"]["media"][0]["mime"], "image/png");
    assert_eq!(published["item"]["media"][0]["credit"], "Photo : Café Pradel");

    let mut unknown = promo("promo-2");
    unknown["media"] = json!([{"sha256": "a".repeat(64)}]);
    let message = error(
        p.post_json("/v1/publish/items", Some(&shop), &unknown).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    )
    .await;
    assert!(message.contains("never uploaded"), "{message}");
    let mut lying = promo("promo-3");
    lying["media"] = json!([{"sha256": media["sha256"], "width": 601}]);
    let message = error(
        p.post_json("/v1/publish/items", Some(&shop), &lying).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    )
    .await;
    assert!(message.contains("media[0].width"), "{message}");

    let device = p.enrol(&a, &["lift"]).await;
    let manifest = p.manifest(&device.token).await;
    let sha = manifest["items"][0]["media"][0]["sha256"].as_str().unwrap().to_owned();
    let fetched = p.get(&format!("/v1/media/{sha}"), &device.token).await.bytes().await.unwrap();
    assert_eq!(sha256_hex(&fetched), sha);
}
