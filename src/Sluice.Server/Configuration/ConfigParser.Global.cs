namespace Sluice.Server.Configuration;

internal static partial class ConfigParser
{
    /// <summary>The global directive with code of its own; the others are read by the table.</summary>
    private sealed partial class Session
    {
        private ServerConfig _global = new();

        /// <summary>UseDefaults / NoDefaults outside a section: the default for the streams that follow.</summary>
        private bool _useDefaults = true;

        private void GlobalDirective(string name)
        {
            switch (name)
            {
                case "UseDefaults":
                    _useDefaults = true;
                    break;
                case "NoDefaults":
                    _useDefaults = false;
                    break;
            }
        }
    }
}
