# imgp-url's join, in jq (bench/url.sh): the base, one /, and each segment
# of asset.path percent-encoded.
.url = $base + "/" + (.asset.path | split("/") | map(@uri) | join("/"))
