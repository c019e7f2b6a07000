"""The CloudFront image transformation function (Lambda@Edge, origin request)."""
