namespace Sluice.Server.Configuration;

internal static partial class ConfigParser
{
    /// <summary>&lt;Redirect name&gt; URL u &lt;/Redirect&gt;.</summary>
    private sealed partial class Session
    {
        private string? _redirectName;
        private string? _redirectUrl;
        private ConfigLocation _redirectLocation;

        private void BeginRedirect(string name)
        {
            (_redirectName, _redirectUrl, _redirectLocation) = (name, null, Here);
        }

        private void RedirectDirective(string name, List<string> args)
        {
            if (name != "URL")
            {
                return;
            }

            var url = args[0];
            if ((Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" or "rtsp" or "rtmp")
                || (url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal)))
            {
                _redirectUrl = url;
            }
            else
            {
                Error($"invalid URL '{url}' for <Redirect {_redirectName}>: expected an absolute http(s) URL such as http://example.com/live.webm or a path starting with /");
                _redirectUrl = "";
            }
        }

        private void EndRedirect()
        {
            if (_redirectUrl is null)
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
