namespace Sluice.Server.Configuration;

internal static partial class ConfigParser
{
    /// <summary>&lt;Redirect name&gt; URL u &lt;/Redirect&gt;.</summary>
    private sealed partial class Session
    {
        private string? _redirectName;
        private string? _redirectUrl;
        private ConfigLocation _redirectLocation;
        private int? _redirectCommentLine;   // a URL line that was only a comment ("URL # soon")

        private void BeginRedirect(string name)
        {
            (_redirectName, _redirectUrl, _redirectLocation, _redirectCommentLine) = (name, null, Here, null);
        }

        /// <summary>
        /// "URL # …": ffserver 3.4 took '#' as the URL and started (the parser has said so on the line); Sluice reads a
        /// comment, so the redirect has no target, which it answers with 404 instead of refusing the config.
        /// </summary>
        private void RedirectUrlWasAComment() => _redirectCommentLine ??= Here.Line;

        private void RedirectDirective(string name, List<string> args)
        {
            if (name != "URL")
            {
                return;
            }

            // ffserver 3.4 sent the URL as written, relative ones too ("status.html", "url/"): so does Sluice.
            var url = args[0];
            if (url.Length == 0)
            {
                Error($"URL of <Redirect {_redirectName}> is empty; write the address to send clients to, such as http://example.com/live.webm, /live.webm or status.html");
                _redirectUrl = "";
                return;
            }

            _redirectUrl = LocationText(url);
            if (_redirectUrl != url)
            {
                Warn($"URL '{url}' of <Redirect {_redirectName}> has characters an HTTP Location header cannot carry; Sluice sends it percent-encoded: {_redirectUrl}");
            }
        }

        /// <summary>The URL with every character outside printable ASCII (spaces, control and non-ASCII characters) percent-encoded as UTF-8.</summary>
        private static string LocationText(string url)
        {
            if (url.All(c => c is > ' ' and < '\x7f'))
            {
                return url;
            }

            var encoded = new System.Text.StringBuilder();
            Span<byte> bytes = stackalloc byte[4];
            foreach (var rune in url.EnumerateRunes())
            {
                if (rune.Value is > ' ' and < 0x7f)
                {
                    encoded.Append((char)rune.Value);
                    continue;
                }

                var length = rune.EncodeToUtf8(bytes);
                foreach (var b in bytes[..length])
                {
                    encoded.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
                }
            }

            return encoded.ToString();
        }

        private void EndRedirect()
        {
            if (_redirectUrl is null && _redirectCommentLine is { } commentLine)
            {
                Warn(_redirectLocation.Line, $"<Redirect {_redirectName}> has no URL (line {commentLine} is only a comment): Sluice answers its requests with 404, where ffserver 3.4 redirected them to \"#\"; write the address after URL to redirect");
                _redirects.Add(new RedirectConfig { Name = _redirectName!, Url = null, Location = _redirectLocation });
            }
            else if (_redirectUrl is null)
            {
                Error(_redirectLocation.Line, $"<Redirect {_redirectName}> has no URL; add 'URL <url>' inside it");
            }
            else if (_redirectUrl.Length > 0)
            {
                _redirects.Add(new RedirectConfig { Name = _redirectName!, Url = _redirectUrl, Location = _redirectLocation });
            }
        }
    }
}
