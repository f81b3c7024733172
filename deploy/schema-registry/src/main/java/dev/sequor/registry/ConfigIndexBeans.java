package dev.sequor.registry;

import io.apicurio.common.apps.config.DynamicConfigPropertyList;
import java.util.List;
import javax.enterprise.context.ApplicationScoped;
import javax.enterprise.inject.Produces;
import javax.inject.Singleton;

/**
 * Stands in for the build step of the apicurio-common-app-components-config-index extension, whose
 * deployment artifact Maven Central does not serve: that step lists the properties an operator may change
 * at run time. None are needed here, so the list is empty (static configuration still applies).
 */
@ApplicationScoped
public class ConfigIndexBeans {
    @Produces
    @Singleton
    DynamicConfigPropertyList dynamicConfigPropertyList() {
        return new DynamicConfigPropertyList(List.of());
    }
}
