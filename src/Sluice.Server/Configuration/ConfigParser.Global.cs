using System.Net;

namespace Sluice.Server.Configuration;

public static partial class ConfigParser
{
    /// <summary>Global directives: ports, addresses, limits, log.</summary>
    private sealed partial class Session
    {
        private ServerConfig _global = new();
        private int _maxClientsLine;
        private int _rtmpPortLine;
        private int _maxHttpConnectionsLine;

        /// <summary>UseDefaults / NoDefaults outside a section: the default for the streams that follow.</summary>
        private bool _useDefaults = true;

        private void GlobalDirective(string name, List<string> args)
        {
            switch (name)
            {
                case "HTTPPort" or "Port":
                    if (Port(name, args[0]) is { } port)
                    {
                        _global = _global with { HTTPPort = port };
                    }

                    break;
                case "HTTPBindAddress" or "BindAddress":
                    if (BindAddress(name, args[0]) is { } address)
                    {
                        _global = _global with { HTTPBindAddress = address };
                    }

                    break;
                case "RTMPPort":
                    if (Port(name, args[0]) is { } rtmpPort)
                    {
                        _rtmpPortLine = _line;
                        _global = _global with { RTMPPort = rtmpPort };
                    }

                    break;
                case "RTMPBindAddress":
                    if (BindAddress(name, args[0]) is { } rtmpAddress)
                    {
                        _global = _global with { RTMPBindAddress = rtmpAddress };
                    }

                    break;
                case "RTSPPort":
                    if (Port(name, args[0]) is { } rtspPort)
                    {
                        _global = _global with { RTSPPort = rtspPort };
                    }

                    break;
                case "RTSPBindAddress":
                    if (BindAddress(name, args[0]) is { } rtspAddress)
                    {
                        _global = _global with { RTSPBindAddress = rtspAddress };
                    }

                    break;
                case "MaxHTTPConnections":
                    if (Limit(name, args[0]) is { } connections)
                    {
                        _global = _global with { MaxHTTPConnections = connections };
                        _maxHttpConnectionsLine = _line;
                    }

                    break;
                case "MaxClients":
                    if (Limit(name, args[0]) is { } clients)
                    {
                        _global = _global with { MaxClients = clients };
                        _maxClientsLine = _line;
                    }

                    break;
                case "MaxBandwidth":
                    if (ConfigValues.Long(args[0], 10, 10_000_000) is { } kbps)
                    {
                        _global = _global with { MaxBandwidth = kbps };
                    }
                    else
                    {
                        Error($"invalid MaxBandwidth '{args[0]}': expected a whole number of kbit/s from 10 to 10000000");
                    }

                    break;
                case "CustomLog":
                    _global = _global with { CustomLog = args[0] };
                    break;
                case "SlowViewerTimeout":
                    if (Seconds(name, args[0]) is { } slow)
                    {
                        _global = _global with { SlowViewerTimeout = slow > 0 ? slow : ServerConfig.DefaultSlowViewerTimeout };
                    }

                    break;
                case "RequestHeaderTimeout":
                    if (PositiveSeconds(name, args[0]) is { } header)
                    {
                        _global = _global with { RequestHeaderTimeout = header };
                    }

                    break;
                case "KeepAliveTimeout":
                    if (PositiveSeconds(name, args[0]) is { } keepAlive)
                    {
                        _global = _global with { KeepAliveTimeout = keepAlive };
                    }

                    break;
                case "MaxClientsPerAddress":
                    if (Limit(name, args[0]) is { } perAddress)
                    {
                        _global = _global with { MaxClientsPerAddress = perAddress };
                    }

                    break;
                case "UseDefaults":
                    _useDefaults = true;
                    break;
                case "NoDefaults":
                    _useDefaults = false;
                    break;
                case "NoDaemon" or "LoadModule":
                    break;
            }
        }

        private int? Port(string name, string text)
        {
            var port = ConfigValues.Int(text, 1, 65535);
            if (port is null)
            {
                Error($"invalid port '{text}' for {name}: expected a whole number from 1 to 65535");
            }

            return port;
        }

        private IPAddress? BindAddress(string name, string text)
        {
            var address = ConfigValues.Address(text);
            if (address is null)
            {
                Error($"invalid address '{text}' for {name}: expected an IPv4 address such as 0.0.0.0 or an IPv6 address such as ::; host names other than localhost are not resolved");
            }

            return address;
        }

        private double? PositiveSeconds(string name, string text)
        {
            var value = ConfigValues.Double(text, 0.1, 3600);
            if (value is null)
            {
                Error($"invalid {name} '{text}': expected a number of seconds from 0.1 to 3600");
            }

            return value;
        }

        private int? Limit(string name, string text)
        {
            var value = ConfigValues.Int(text, 1, 65535);
            if (value is null)
            {
                Error($"invalid {name} '{text}': expected a whole number from 1 to 65535");
            }

            return value;
        }

        private void ValidateGlobal()
        {
            if (_global.MaxClients > _global.MaxHTTPConnections)
            {
                var line = _maxClientsLine != 0 ? _maxClientsLine : _maxHttpConnectionsLine;
                Error(line, $"MaxClients {_global.MaxClients} is more than MaxHTTPConnections {_global.MaxHTTPConnections}; lower MaxClients or raise MaxHTTPConnections");
            }

            if (_global.RTMPPort == _global.HTTPPort)
            {
                Error(_rtmpPortLine, $"RTMPPort {_global.RTMPPort} is also the HTTPPort; RTMP needs a port of its own (1935 is RTMP's)");
            }
        }

        private ServerConfig BuildGlobal() => _global;
    }
}
